import { MemoryBackend } from '../../src/backends/memory/index.js';
import { serviceContract } from './service.contract.js';

serviceContract('the memory backend', { makeBackend: () => new MemoryBackend() });
