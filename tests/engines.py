"""The DynamoDB engines the adapters' tests run on: moto, and AWS's DynamoDB Local
(roomchat_tools.local.dynamodb_local). The `dynamodb` fixture of tests/unit takes one of
these; mark a test or a module with `both_engines` to run it on each."""

import pytest

MOTO = "moto"
LOCAL = "dynamodb-local"
both_engines = pytest.mark.parametrize("dynamodb", [MOTO, LOCAL], indirect=True)
local_engine_only = pytest.mark.parametrize("dynamodb", [LOCAL], indirect=True)
