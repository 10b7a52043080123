"""The local stack behind `make run`: a moto emulator, `terraform apply` of infra/ against it, and a
WebSocket gateway that behaves like API Gateway and runs the deployed Lambda code.

Modules: ``stack`` (orchestration, the entry point), ``gateway`` (aiohttp server: WebSocket,
@connections, web client), ``apimodel`` (the API read back from the emulator), ``runtime`` and
``worker`` (Lambda functions in warm worker subprocesses), ``events`` (Lambda proxy events).
"""
