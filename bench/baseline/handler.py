"""The common sample design of a WebSocket chat on API Gateway, as the benchmark's baseline.

This is the shape of AWS's own introductory examples (the "simple WebSocket chat app" and the
boto3 "API Gateway websocket chat" code example), written here from their description:
- ``$connect`` stores the connection id in one table (here with the room it asked for, so the
  benchmark can spread the same members over rooms as ours has them);
- ``sendmessage`` reads **every** connection with a Scan and posts the frame to each of them,
  one after another, deleting the ones API Gateway says are gone (410);
- ``$disconnect`` deletes the connection.

It has no rooms when it sends (everyone gets everything), no history and no membership check:
it is what our room-scoped Query + concurrent fan-out is measured against. Do not use it.

Environment: ``TABLE_NAME`` (partition key ``connectionId``); the @connections endpoint is built
from the event (``https://{domainName}/{stage}``) unless ``CALLBACK_URL`` is set.
"""

import json
import os

import boto3
from botocore.exceptions import ClientError

_table = None


def _connections():
    global _table
    if _table is None:
        _table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    return _table


def _management(event):
    context = event["requestContext"]
    endpoint = os.environ.get("CALLBACK_URL") or (
        f"https://{context['domainName']}/{context['stage']}"
    )
    return boto3.client("apigatewaymanagementapi", endpoint_url=endpoint)


def on_connect(event, context):
    query = event.get("queryStringParameters") or {}
    item = {"connectionId": event["requestContext"]["connectionId"]}
    if query.get("room"):
        item["roomId"] = query["room"]
    _connections().put_item(Item=item)
    return {"statusCode": 200}


def on_disconnect(event, context):
    _connections().delete_item(Key={"connectionId": event["requestContext"]["connectionId"]})
    return {"statusCode": 200}


def on_send_message(event, context):
    data = json.loads(event.get("body") or "{}").get("data", "")
    table = _connections()
    # Every connection of every room: a Scan, page after page.
    connection_ids = []
    scan = {"ProjectionExpression": "connectionId"}
    while True:
        page = table.scan(**scan)
        connection_ids.extend(item["connectionId"] for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            break
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    client = _management(event)
    payload = data.encode("utf-8")
    posted = gone = 0
    for connection_id in connection_ids:  # one after another
        try:
            client.post_to_connection(ConnectionId=connection_id, Data=payload)
            posted += 1
        except ClientError as error:
            if error.response["ResponseMetadata"]["HTTPStatusCode"] == 410:
                table.delete_item(Key={"connectionId": connection_id})
                gone += 1
            else:
                print(json.dumps({"event": "post_failed", "target": connection_id}))
    print(json.dumps({"event": "sent", "members": len(connection_ids), "posted": posted}))
    return {"statusCode": 200}


def on_default(event, context):
    return {"statusCode": 200}
