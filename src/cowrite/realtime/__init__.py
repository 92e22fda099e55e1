"""What both sockets share: the socket as a channel (direct.py), admission (admission.py), close
codes (codes.py), the send loop and slow-reader policy (outbox.py). `presence/` and `collab/`
import these, never a transport."""
