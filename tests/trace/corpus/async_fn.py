# entry: main
# input: 3
import asyncio

async def double(x):
    await asyncio.sleep(0)
    return 2 * x

async def main(n):
    total = 0
    for i in range(n):
        total += await double(i)
    return total
