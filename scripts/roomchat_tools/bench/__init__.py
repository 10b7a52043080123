"""`make bench`: how fast a message reaches a whole room, what it costs to read, and cold starts,
side by side with the AWS sample's design and with the limits of this machine.

    python -m roomchat_tools.bench                     # the full run (rooms of 10, 100, 1,000)
    python -m roomchat_tools.bench --smoke --out DIR   # a tiny run (tests/bench)
    python -m roomchat_tools.bench --stack-file .local/stack.json   # a running `make run` stack

One run on one machine, all against the local stack (`python -m roomchat_tools.local`: the emulator,
`terraform apply` of infra/, the gateway running the deployed Lambda code in worker processes):

1. fan-out: up to 1,000 real WebSocket clients in this process; repeated `sendAll`, timed from the
   send to the last member receiving the frame;
2. baseline: the AWS sample's design (bench/baseline/handler.py: Scan every connection, then every
   post in flight at once) deployed as functions in the same emulator behind its own API, served
   by a second instance of the same gateway code, with the same number of clients over 10 rooms;
3. limits: the same frames posted through the same gateway's management API by a process like the
   sendAll function's with the same worker count but no DynamoDB work (bench/poster.py), and a bare
   aiohttp server sending them to its sockets; plus the fan-out pool against a stand-in
   @connections endpoint that answers after a fixed delay, to see the worker count at work when
   the post round trip (not this machine's CPU) is the limit, as on AWS; and the CPU per post of
   the botocore client against the lean signed poster, in the same process setup;
4. DynamoDB read cost per message, computed from the real items the way DynamoDB bills;
5. cold start of each handler from its extracted deployment zip, in fresh interpreters.

Writes bench/results/latest.{md,png,json} (or --out) and prints the table. Every process it starts
is stopped before it exits; every wait has a deadline.

Modules, by concern: costmodel (DynamoDB billing, AWS limits), plan (what is measured, series),
fleet (WebSocket clients, timed broadcasts), processes and servers (child processes: gateways,
bare server, latency sink), stack (the local stack, the baseline's deployment), run and phases_*
(the run and its phases), analysis, report, prose, plot, cli.
"""
