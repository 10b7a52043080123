"""roomchat: the Lambda code behind a multi-room WebSocket chat.

Layers, with imports pointing one way only:
    protocol, errors, ulid   pure rules and frame shapes, no I/O
    ports                    the interfaces the use-cases need (typing.Protocol)
    usecases                 join, leave, send, history, members, disconnect
    adapters                 DynamoDB repositories and the @connections sender
    handlers                 Lambda entry points: parse the event, call one use-case
"""
