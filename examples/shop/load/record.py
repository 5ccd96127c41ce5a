#!/usr/bin/env python3
"""Records the example's QA load run (load/qa-run.json): `envparity load` with Production's
traffic model at twice its peak, in six steps, against a stand-in for QA's shop-api on
loopback. The stand-in is QA as EXPECTED.md describes it: 7 request workers (2 replicas at
250m CPU), about 30 ms per page and 60-120 ms per write, so it carries about 180 req/s,
less than Production's 300 req/s lunchtime peak.

    python3 load/record.py [path/to/envparity]    # from examples/shop; about 70 s

Not deterministic (it is a real run): the committed result is one such run.
"""
import asyncio
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHOP = os.path.dirname(HERE)
WORKERS = 7
SERVICE = {  # seconds of work per request, by route prefix
    "POST /checkout": 0.120,
    "POST /cart/items": 0.060,
}


def service_time(method, path):
    for prefix, seconds in SERVICE.items():
        m, p = prefix.split(" ")
        if method == m and path.startswith(p):
            return seconds
    return 0.030


async def handle(reader, writer, workers):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            length = 0
            for line in lines[1:]:
                if line.lower().startswith("content-length:"):
                    length = int(line.split(":", 1)[1])
            if length:
                await reader.readexactly(length)
            async with workers:
                await asyncio.sleep(service_time(method, path))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def serve(ready):
    async def main():
        workers = asyncio.Semaphore(WORKERS)
        server = await asyncio.start_server(lambda r, w: handle(r, w, workers), "127.0.0.1", 0)
        ready.append(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(SHOP, "../../target/release/envparity")
    ready = []
    threading.Thread(target=serve, args=(ready,), daemon=True).start()
    for _ in range(100):  # the server binds within a moment; at most 10 s
        if ready:
            break
        time.sleep(0.1)
    else:
        sys.exit("the stand-in server did not start")
    url = f"http://127.0.0.1:{ready[0]}"
    subprocess.run(
        [binary, "load", url, "--model", "prod", "--rate", "2x-peak", "--shape", "steps:6",
         "--duration", "60s", "--connections", "64", "-o", os.path.join(HERE, "qa-run.json")],
        cwd=SHOP, check=True)


if __name__ == "__main__":
    main()
