/**
 * The SDK's message types (clients/js/src/messages.ts) are generated from schemas/messages/ and
 * kept up to date; the type checker (`npm test` runs it first) holds them to real bodies.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { OrchestratorEvent, TripleoWorkflowMessage } from '../../../clients/js/src/messages.js';

const run = promisify(execFile);

// Bodies that the schemas accept (from their examples) type-check…
const deployed: TripleoWorkflowMessage = {
  type: 'tripleo.deployment.v1.deploy_plan',
  payload: { status: 'SUCCESS', message: 'Deployment succeeded', execution_id: 'e-1', root_execution_id: null, plan_name: 'overcloud', deployment_status: 'DEPLOY_SUCCESS' },
};
const proposal: TripleoWorkflowMessage = { name: 'tripleo.validations.v1.run_validation', execution_id: 'e-2', data: {} };
const list: OrchestratorEvent = { name: 'invalidateCache', value: { type: 'processes', id: 'LIST' } };
// …and what they refuse does not.
// @ts-expect-error status is RUNNING, SUCCESS or FAILED
const badStatus: TripleoWorkflowMessage = { type: 'tripleo.x.v1.y', payload: { status: 'DONE', execution_id: 'e' } };
// @ts-expect-error the orchestrator's events are all named invalidateCache
const badName: OrchestratorEvent = { name: 'reload', value: { type: 'engineStatus' } };

describe('generated message types', () => {
  it('are up to date with schemas/messages/', async () => {
    await expect(run(process.execPath, ['scripts/gen-message-types.mjs', '--check'])).resolves.toBeDefined();
    expect([deployed, proposal, list, badStatus, badName]).toHaveLength(5);
  });
});
