"""Small building blocks shared by every domain; imports no domain code."""
