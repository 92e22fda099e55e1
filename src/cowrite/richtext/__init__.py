"""Rich-text documents: the Tiptap/ProseMirror tree kept in a Yjs XmlFragment, and its other
forms (ProseMirror JSON, Markdown, sanitized HTML). Pure functions over pycrdt and JSON;
imports no domain code."""
