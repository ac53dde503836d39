// Preloaded with `node -r` by the benchmark: reports this process's own CPU time (user + system) at
// exit on stderr (a pipe: written synchronously), a figure far less sensitive than wall time to
// other load on the machine.
process.on('exit', () => {
  const u = process.cpuUsage();
  process.stderr.write(`\ncpu-ms ${(u.user + u.system) / 1000}\n`);
});
