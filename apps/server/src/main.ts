// Placeholder entry point: apps/server is not built yet (see the open issues).
// It says so and exits non-zero rather than pretending to serve anything.
process.stderr.write('@ims/server is not built yet: nothing is started.\n');
process.exitCode = 1;
