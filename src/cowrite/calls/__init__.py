"""Calls in a document: WebRTC signalling relayed on `/ws`, ICE servers with TURN credentials."""
