// The real-time updates guide's server, built as the guide writes it: the baseline that
// livequeue's server is measured against (`livequeue-loadgen --guide-js`).
//
// The guide (Fanfare's "Real-Time Updates Guide", kept at /work/shared/seeds/000_*.txt)
// gives three backend pieces, in TypeScript: `routes/sse/queue-updates.ts` (an Express
// router, one Redis subscriber per SSE client via `redis.duplicate()`, `publishQueueUpdate`
// via `redis.publish`), `websocket/queue-server.ts` (a `ws` WebSocketServer on `/ws/queue`,
// one pattern subscriber for every socket) and the `redis` client of `../cache`. They are
// here in that order, in plain JavaScript (types dropped, nothing else changed), the naive
// parts kept on purpose: one Redis connection per SSE client, `JSON.parse` of every message
// once per SSE client, `JSON.stringify` once per client send, two `res.write` calls per SSE
// event, one heartbeat timer per client. It is the baseline; making it fast is not the
// point.
//
// What the guide leaves out and a runnable server needs is marked BENCHMARK ADDITION:
// - `getQueueState` (the guide calls it and never defines it): the queue lives in Redis,
//   as the guide's design implies (`redis` from `../cache` is the only store it has):
//   `queue:<id>:stock` a hash {available, total}, `queue:<id>:positions` a hash consumerId →
//   position, `queue:<id>:seq` the last position given.
// - `POST /api/experiences/:id/join`: a new consumer id and its position.
// - `POST /bench/publish/:experienceId` with `{"stock": N}`: stores the stock and calls the
//   guide's `publishQueueUpdate` with a `stock_update` (`{"available":N,"total":N}`).
// - `GET /healthz` and `GET /bench/connections` (open SSE streams and WebSockets, for the
//   loadgen to see its closed connections gone).
// - The port (argv[2], else `PORT`, else 3000), the Redis URL (`REDIS_URL`) and the
//   heartbeat interval (`GUIDE_HEARTBEAT_MS`, the guide's 30,000 ms by default; the loadgen
//   sets an hour, as it does for livequeue's server, so that no heartbeat falls among the
//   publishes it measures: the timers still exist, one per client).
// - `handleClientMessage`'s `case "refresh"` declares a `const` in a `case`, which
//   TypeScript and JavaScript both refuse without a block: braces added.
// - The guide's `redis.duplicate()` of ioredis makes a subscriber that connects by itself;
//   nothing else about it is configured.

"use strict";

const http = require("node:http");
const crypto = require("node:crypto");
const express = require("express");
const Redis = require("ioredis");
const { WebSocketServer, WebSocket } = require("ws");

// ---------------------------------------------------------------------------------------
// ../cache — the guide imports `redis` from it.

const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379/";
const redis = new Redis(REDIS_URL);

// BENCHMARK ADDITION: the heartbeat interval (the guide's 30 s unless told otherwise).
const HEARTBEAT_MS = Number(process.env.GUIDE_HEARTBEAT_MS || 30000);

// BENCHMARK ADDITION: counters of open push connections, for `GET /bench/connections`.
const open = { sse: 0, ws: 0 };

// BENCHMARK ADDITION: the queue state the guide reads with `getQueueState` and never
// defines, kept in Redis.
async function getQueueState(experienceId, consumerId) {
  const [position, stock] = await Promise.all([
    redis.hget(`queue:${experienceId}:positions`, consumerId),
    redis.hgetall(`queue:${experienceId}:stock`),
  ]);
  const pos = position === null ? null : Number(position);
  return {
    experienceId,
    consumerId,
    position: pos,
    stage: "queued",
    estimatedWait: pos === null ? null : pos * 2,
    stock: {
      available: Number(stock.available || 0),
      total: Number(stock.total || 0),
    },
  };
}

// ---------------------------------------------------------------------------------------
// routes/sse/queue-updates.ts

const router = express.Router();

// SSE endpoint for queue updates
router.get("/queue/:experienceId", async (req, res) => {
  const { experienceId } = req.params;
  const consumerId = req.query.consumerId;

  // Set SSE headers
  res.setHeader("Content-Type", "text/event-stream");
  res.setHeader("Cache-Control", "no-cache");
  res.setHeader("Connection", "keep-alive");
  res.setHeader("X-Accel-Buffering", "no");

  // Send initial state
  const initialState = await getQueueState(experienceId, consumerId);
  res.write(`data: ${JSON.stringify(initialState)}\n\n`);

  // Subscribe to Redis pub/sub for updates
  const subscriber = redis.duplicate();
  await subscriber.subscribe(`queue:${experienceId}:updates`);
  open.sse++; // BENCHMARK ADDITION

  subscriber.on("message", (channel, message) => {
    const update = JSON.parse(message);

    // Filter updates for this consumer or broadcast updates
    if (!update.consumerId || update.consumerId === consumerId) {
      res.write(`event: ${update.type}\n`);
      res.write(`data: ${JSON.stringify(update.data)}\n\n`);
    }
  });

  // Heartbeat to keep connection alive
  const heartbeat = setInterval(() => {
    res.write(": heartbeat\n\n");
  }, HEARTBEAT_MS);

  // Cleanup on disconnect
  req.on("close", () => {
    open.sse--; // BENCHMARK ADDITION
    clearInterval(heartbeat);
    subscriber.unsubscribe();
    subscriber.quit();
  });
});

// Publish updates from your application
async function publishQueueUpdate(experienceId, update) {
  // BENCHMARK ADDITION: the number of subscribers Redis handed it to, for the answer.
  return await redis.publish(`queue:${experienceId}:updates`, JSON.stringify(update));
}

// ---------------------------------------------------------------------------------------
// websocket/queue-server.ts

const connections = new Map();

function setupWebSocketServer(server) {
  const wss = new WebSocketServer({ server, path: "/ws/queue" });

  wss.on("connection", (ws, req) => {
    const params = new URLSearchParams(req.url?.split("?")[1] || "");
    const consumerId = params.get("consumerId");
    const experienceId = params.get("experienceId");

    if (!consumerId || !experienceId) {
      ws.close(4000, "Missing required parameters");
      return;
    }

    const connectionId = `${consumerId}:${experienceId}`;
    connections.set(connectionId, { ws, consumerId, experienceId });
    open.ws = connections.size; // BENCHMARK ADDITION

    // Send initial state
    getQueueState(experienceId, consumerId).then((state) => {
      ws.send(JSON.stringify({ type: "initial_state", data: state }));
    });

    // Handle incoming messages
    ws.on("message", async (message) => {
      try {
        const parsed = JSON.parse(message.toString());
        await handleClientMessage(connectionId, parsed);
      } catch (error) {
        ws.send(JSON.stringify({ type: "error", message: "Invalid message format" }));
      }
    });

    ws.on("close", () => {
      connections.delete(connectionId);
      open.ws = connections.size; // BENCHMARK ADDITION
    });

    // Heartbeat
    const heartbeatInterval = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN) {
        ws.ping();
      }
    }, HEARTBEAT_MS);

    ws.on("close", () => {
      clearInterval(heartbeatInterval);
    });
  });

  // Subscribe to Redis for broadcast updates
  subscribeToUpdates();

  return wss;
}

async function handleClientMessage(connectionId, message) {
  const connection = connections.get(connectionId);
  if (!connection) return;

  switch (message.type) {
    case "ping":
      connection.ws.send(JSON.stringify({ type: "pong" }));
      break;
    case "refresh": {
      const state = await getQueueState(connection.experienceId, connection.consumerId);
      connection.ws.send(JSON.stringify({ type: "state_refresh", data: state }));
      break;
    }
  }
}

function subscribeToUpdates() {
  const subscriber = redis.duplicate();
  subscriber.psubscribe("queue:*:updates");

  subscriber.on("pmessage", (pattern, channel, message) => {
    const experienceId = channel.split(":")[1];
    const update = JSON.parse(message);

    // Broadcast to relevant connections
    connections.forEach((connection, id) => {
      if (connection.experienceId === experienceId) {
        if (!update.consumerId || update.consumerId === connection.consumerId) {
          if (connection.ws.readyState === WebSocket.OPEN) {
            connection.ws.send(JSON.stringify(update));
          }
        }
      }
    });
  });
}

// Publish updates
function broadcastQueueUpdate(experienceId, update) {
  redis.publish(`queue:${experienceId}:updates`, JSON.stringify(update));
}

function sendToConsumer(experienceId, consumerId, update) {
  const connectionId = `${consumerId}:${experienceId}`;
  const connection = connections.get(connectionId);
  if (connection && connection.ws.readyState === WebSocket.OPEN) {
    connection.ws.send(JSON.stringify(update));
  }
}

// ---------------------------------------------------------------------------------------
// The app: the guide mounts the router where its client hook connects,
// `/api/sse/queue/${experienceId}?consumerId=${consumerId}`.

const app = express();
app.use(express.json());
app.use("/api/sse", router);

// BENCHMARK ADDITION: join a queue — a new consumer at the back.
app.post("/api/experiences/:id/join", async (req, res) => {
  const experienceId = req.params.id;
  const consumerId = crypto.randomUUID();
  const position = await redis.incr(`queue:${experienceId}:seq`);
  await redis.hset(`queue:${experienceId}:positions`, consumerId, position);
  res.json({ consumerId, experienceId, position });
});

// BENCHMARK ADDITION: set the stock and publish it through the guide's function.
app.post("/bench/publish/:experienceId", async (req, res) => {
  const { experienceId } = req.params;
  const stock = Number(req.body?.stock);
  if (!Number.isSafeInteger(stock) || stock < 0) {
    res.status(400).json({ error: "stock must be a non-negative integer" });
    return;
  }
  await redis.hset(`queue:${experienceId}:stock`, { available: stock, total: stock });
  const receivers = await publishQueueUpdate(experienceId, {
    type: "stock_update",
    data: { available: stock, total: stock },
  });
  res.json({ receivers });
});

// BENCHMARK ADDITION: liveness and the open push connections.
app.get("/healthz", (req, res) => {
  res.status(redis.status === "ready" ? 200 : 503).json({ ok: redis.status === "ready" });
});
app.get("/bench/connections", (req, res) => {
  res.json({ sse: open.sse, ws: open.ws });
});

const server = http.createServer(app);
setupWebSocketServer(server);

const port = Number(process.argv[2] || process.env.PORT || 3000);
server.listen(port, "127.0.0.1", () => {
  console.error(
    `guide-js: listening on http://127.0.0.1:${port}, Redis ${REDIS_URL}, ` +
      `node ${process.version}, heartbeat ${HEARTBEAT_MS} ms`,
  );
});

// Unused by the benchmark, kept as the guide has them.
module.exports = { publishQueueUpdate, broadcastQueueUpdate, sendToConsumer };
