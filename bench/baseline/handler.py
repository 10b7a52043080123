"""The AWS sample's WebSocket chat, ported to Python as the benchmark's baseline.

AWS's own sample, aws-samples/simple-websockets-chat-app (https://github.com/aws-samples/simple-websockets-chat-app):
- ``onconnect/app.js`` stores the connection id in one table (here with the room it asked for, so
  the benchmark can spread the same members over rooms as ours has them);
- ``sendmessage/app.js`` reads **every** connection with a Scan (``ProjectionExpression:
  'connectionId'``) and starts a PostToConnection for each of them at once (``Items.map(async
  ...)`` then ``await Promise.all(postCalls)``), deleting a connection API Gateway says is gone
  (410) and answering 500 if any other post failed;
- ``ondisconnect/app.js`` deletes the connection.

The port keeps that design: one Scan, then every post in flight at once. Node runs them on one
thread with its SDK's HTTP agent, which keeps connections alive and opens at most 50 sockets per
host ("The SDK for JavaScript uses a maxSockets value of 50 if you do not supply a value":
https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/node-configuring-maxsockets.html),
so requests beyond 50 queue for a socket. Here every post is submitted at once to 50 threads
sharing one boto3 client with 50 pooled connections: the same number of requests on the wire at a
time, and the SDK's default standard retry mode (3 attempts) as in SDK v3. Two differences from
the sample, neither of which changes what is measured: the Scan is paginated (the sample reads
only the first 1 MB page), and a gone connection's own item is deleted (the sample deletes the
*sender's* item, a known slip).

It has no rooms when it sends (everyone gets everything), no history and no membership check:
it is what our room-scoped Query + concurrent fan-out is measured against. Do not use it.

Environment: ``TABLE_NAME`` (partition key ``connectionId``); the @connections endpoint is built
from the event (``https://{domainName}/{stage}``) unless ``CALLBACK_URL`` is set.
"""

import json
import os
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

SOCKETS = 50  # the JavaScript SDK's default maxSockets per host
_table = None
_pool = None


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
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint,
        config=Config(max_pool_connections=SOCKETS, retries={"mode": "standard"}),
    )


def _posts():
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(SOCKETS)
    return _pool


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
    # A new client per invocation, as the sample builds its ApiGatewayManagementApiClient.
    client = _management(event)
    payload = data.encode("utf-8")

    def post(connection_id):
        try:
            client.post_to_connection(ConnectionId=connection_id, Data=payload)
            return "posted"
        except ClientError as error:
            if error.response["ResponseMetadata"]["HTTPStatusCode"] == 410:
                table.delete_item(Key={"connectionId": connection_id})
                return "gone"
            print(json.dumps({"event": "post_failed", "target": connection_id}))
            return "failed"

    # Promise.all(Items.map(post)): every post started at once, then all awaited.
    pool = _posts()
    outcomes = [f.result() for f in [pool.submit(post, cid) for cid in connection_ids]]
    posted = outcomes.count("posted")
    print(json.dumps({"event": "sent", "members": len(connection_ids), "posted": posted}))
    if "failed" in outcomes:
        return {"statusCode": 500}
    return {"statusCode": 200}


def on_default(event, context):
    return {"statusCode": 200}
