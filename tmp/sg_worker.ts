const w = new Worker(new URL("./stackguard2.ts", import.meta.url).href, { type: "module" });
setTimeout(() => { w.terminate(); console.log("done"); }, 8000);
