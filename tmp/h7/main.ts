const worker = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
await new Promise((resolve) => worker.onmessage = resolve);
await new Promise((resolve) => setTimeout(resolve, 200));
worker.terminate();
await new Promise((resolve) => setTimeout(resolve, 200));
console.log("terminated");
