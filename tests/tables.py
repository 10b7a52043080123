"""The two tables' key schemas, as boto3 create_table arguments.

The unit tests build moto tables from these, and the infra tests check that the tables Terraform
creates have exactly these keys and index, so the two cannot drift apart.
"""

ROOMS_BY_CONNECTION_INDEX = "byConnection"
TTL_ATTRIBUTE = "expiresAt"

ROOMS_TABLE = {
    "KeySchema": [
        {"AttributeName": "roomId", "KeyType": "HASH"},
        {"AttributeName": "connectionId", "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": "roomId", "AttributeType": "S"},
        {"AttributeName": "connectionId", "AttributeType": "S"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": ROOMS_BY_CONNECTION_INDEX,
            "KeySchema": [
                {"AttributeName": "connectionId", "KeyType": "HASH"},
                {"AttributeName": "roomId", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ],
    "BillingMode": "PAY_PER_REQUEST",
}

HISTORY_TABLE = {
    "KeySchema": [
        {"AttributeName": "roomId", "KeyType": "HASH"},
        {"AttributeName": "messageId", "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": "roomId", "AttributeType": "S"},
        {"AttributeName": "messageId", "AttributeType": "S"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
}
