// Placeholder entry point: apps/smtp is not built yet (see the open issues).
// It says so and exits non-zero rather than pretending to serve anything.
process.stderr.write('@ims/smtp is not built yet: nothing is started.\n');
process.exitCode = 1;
