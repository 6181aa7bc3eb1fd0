/** The live-tail page in headless Chromium, embedded backend (the suite: live-tail.suite.ts). */
import { liveTailSuite } from './live-tail.suite.js';

liveTailSuite({ name: 'memory', backend: {}, durable: false });
