/**
 * VERSION: slotflow's version, the instrumentation scope's version of the default tracer (a test keeps it equal
 * to package.json's).
 */
export const VERSION = '0.1.0';
