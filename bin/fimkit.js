#!/usr/bin/env node
// Launcher for the compiled CLI (npm run build first).
import { main } from '../dist/src/cli/main.js';

await main();
