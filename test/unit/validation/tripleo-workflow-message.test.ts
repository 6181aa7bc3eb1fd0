import { beforeAll, describe, expect, it } from 'vitest';
import { loadSchemaRegistry, type SchemaRegistry } from '../../../src/validation/index.js';
import { DEPLOY_PLAN_START, REAL_WORKFLOW_BODIES } from './real-bodies.js';

const META = { _schema: 'tripleo-workflow-message-v1' };
let registry: SchemaRegistry;

beforeAll(async () => {
  registry = await loadSchemaRegistry();
});

function check(body: unknown): string | null {
  return registry.validate('tripleo', META, [body]);
}

describe('tripleo-workflow-message-v1: real bodies pass', () => {
  it.each(Object.entries(REAL_WORKFLOW_BODIES))('%s', (_label, body) => {
    expect(check(body)).toBeNull();
  });
});

describe('tripleo-workflow-message-v1: near misses fail with a clear text', () => {
  const payload = DEPLOY_PLAN_START.payload;
  const cases: readonly (readonly [string, unknown, string])[] = [
    ['status outside the enum', { ...DEPLOY_PLAN_START, payload: { ...payload, status: 'DONE' } },
      '/payload/status must be one of RUNNING, SUCCESS, FAILED'],
    ['status in lower case', { ...DEPLOY_PLAN_START, payload: { ...payload, status: 'running' } },
      '/payload/status must be one of RUNNING, SUCCESS, FAILED'],
    ['status null', { ...DEPLOY_PLAN_START, payload: { ...payload, status: null } },
      '/payload/status must be one of RUNNING, SUCCESS, FAILED'],
    ['neither type nor name', { payload }, "/ must have required property 'type'"],
    ['type without payload', { type: DEPLOY_PLAN_START.type }, "/ must have required property 'payload'"],
    ['type not fully qualified', { ...DEPLOY_PLAN_START, type: 'deploy_plan' },
      '/type must be a fully qualified, dotted workflow name (e.g. tripleo.deployment.v1.deploy_plan)'],
    ['type with a space', { ...DEPLOY_PLAN_START, type: 'tripleo.deployment v1' },
      '/type must be a fully qualified, dotted workflow name (e.g. tripleo.deployment.v1.deploy_plan)'],
    ['type not a string', { ...DEPLOY_PLAN_START, type: 42 }, '/type must be a string'],
    ['payload not an object', { ...DEPLOY_PLAN_START, payload: 'RUNNING' }, '/payload must be an object'],
    ['payload an array', { ...DEPLOY_PLAN_START, payload: [payload] }, '/payload must be an object'],
    ['no execution id anywhere', { type: DEPLOY_PLAN_START.type, payload: { status: 'RUNNING', message: 'x' } },
      '/payload must carry an execution id (payload.execution_id or payload.execution.id)'],
    ['execution_id null and no execution', { ...DEPLOY_PLAN_START, payload: { ...payload, execution_id: null } },
      '/payload must carry an execution id (payload.execution_id or payload.execution.id)'],
    ['execution without id', { type: 'tripleo.baremetal.v1.provide', payload: { status: 'SUCCESS', execution: { name: 'x' } } },
      "/payload/execution must have required property 'id'"],
    ['execution id not a string', { type: 'tripleo.baremetal.v1.provide', payload: { execution: { id: 7 } } },
      '/payload/execution/id must be a string'],
    ['message an object', { ...DEPLOY_PLAN_START, payload: { ...payload, message: { text: 'x' } } },
      '/payload/message must be a string or null'],
    ['plan_name a number', { ...DEPLOY_PLAN_START, payload: { ...payload, plan_name: 1 } },
      '/payload/plan_name must be a string or null'],
    ['body not an object', 'tripleo.deployment.v1.deploy_plan RUNNING', '/ must be an object'],
    ['body null', null, '/ must be an object'],
    ['proposal without data', { name: 'tripleo.validations.v1.run_validation', execution_id: '1' },
      "/ must have required property 'data'"],
    ['proposal without execution id', { name: 'tripleo.validations.v1.run_validation', data: {} },
      '/ must carry an execution id (execution_id or execution.id)'],
    ['proposal data not an object', { name: 'tripleo.validations.v1.run_validation', execution_id: '1', data: 'x' },
      '/data must be an object'],
    ['orchestrator event on a workflow queue', { name: 'invalidateCache', value: { type: 'engineStatus' } },
      '/name must be a fully qualified, dotted workflow name (e.g. tripleo.validations.v1.run_validation)'],
  ];
  it.each(cases)('%s', (_label, body, expected) => {
    expect(check(body)).toBe(`Message 1 is invalid: ${expected}`);
  });
});
