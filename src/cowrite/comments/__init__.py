"""Comments: threads anchored to text that moves with edits, replies, resolve, reactions."""
