// A generation job that never ends (console-hostile.test.ts): only terminate() stops it.
for (;;) { /* spin */ }
