"""roomchat: the Lambda code behind a multi-room WebSocket chat.

Layers, with imports pointing one way only:
    protocol/, errors, ulid  pure rules and frame shapes, no I/O (protocol: one module per
                             capability's requests and frames)
    ports                    the interfaces the use-cases need (typing.Protocol)
    usecases/                one module per capability (membership, messages, moderation,
                             rooms, fanout) over the ports, sharing policy (who may do what)
                             and broadcast; ChatService routes each command to its module
    adapters/                DynamoDB repositories (dynamodb/: one module per kind of item),
                             the @connections senders, the queue and the review hook
    handlers                 Lambda entry points: parse the event, call one use-case
"""
