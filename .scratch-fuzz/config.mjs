export default { test: { include: ['.scratch-fuzz/*.test.ts'], testTimeout: 30000 } };
