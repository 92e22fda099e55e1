"""Co-editing over the y-websocket protocol (`/ws/yjs/{document_id}`).

protocol.py / updates.py  the wire format and the update check, as pure functions over bytes
room.py                   one live document and its peers: per-tick merged fan-out, awareness
connection.py             a socket as a peer: in-place sends, bounded queue when slow
log.py / repository.py    group-commit update log, snapshot, compaction, content sync (SQL)
service.py                `state.collab`: rooms load once and unload when idle, REST merges,
                          access changes reaching open sockets, the broker channel `yjs:<id>`
endpoints.py / sessions.py  the socket route, admission, `user_sessions` and presence entries
"""
