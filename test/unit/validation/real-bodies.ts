/**
 * Real message bodies from the reference (real-clients.md §4.3 and §4.1, the seed thread and
 * the orchestrator events table), shared by the validation tests and the benchmark.
 */

/** (a) deploy_plan start, final 2019 format with explicit nulls. */
export const DEPLOY_PLAN_START = {
  type: 'tripleo.deployment.v1.deploy_plan',
  payload: {
    status: 'RUNNING',
    message: 'Initializing overcloud plan deployment',
    execution_id: '6f1c3b2e-8d7a-4f0e-9c1d-2a3b4c5d6e7f',
    root_execution_id: null,
    plan_name: 'overcloud',
    deployment_status: 'DEPLOYING',
  },
} as const;

/** (b) register_or_update result: standard keys merged with the workflow's own payload. */
export const REGISTER_OR_UPDATE_RESULT = {
  type: 'tripleo.baremetal.v1.register_or_update',
  payload: {
    status: 'SUCCESS',
    message: '2 node(s) successfully moved to the "manageable" state.',
    execution_id: '0a4e5f6a-1b2c-4d3e-8f90-a1b2c3d4e5f6',
    root_execution_id: null,
    plan_name: null,
    deployment_status: null,
    registered_nodes: [
      { uuid: '3c1e0c36-6a3b-4d59-9d0c-2f1b7e8a9c0d', provision_state: 'manageable', driver: 'ipmi' },
      { uuid: '7d2f1a47-7b4c-4e6a-8e1d-3a2c8f9b0d1e', provision_state: 'manageable', driver: 'ipmi' },
    ],
  },
} as const;

/** (c) ansible output chunk posted by the action itself, old `payload.execution.id` form. */
export const ANSIBLE_CHUNK = {
  type: 'tripleo.ansible-playbook.deploy_steps_playbook.yaml',
  payload: {
    message: 'PLAY [Deploy step tasks for 1] ****\nTASK [Gathering Facts] ****\nok: [overcloud-controller-0]\n',
    plan_name: 'overcloud',
    status: 'RUNNING',
    execution: { id: '6f1c3b2e-8d7a-4f0e-9c1d-2a3b4c5d6e7f' },
  },
} as const;

/** (d) 2016–2018 shape carrying the whole execution. */
export const PROVIDE_2018 = {
  type: 'tripleo.baremetal.v1.provide',
  payload: {
    status: 'SUCCESS',
    message: '',
    execution: {
      id: '9b8c7d6e-5f4a-4b3c-9d2e-1f0a9b8c7d6e',
      name: 'tripleo.baremetal.v1.provide',
      spec: { tasks: { set_nodes_available: { action: 'baremetal.set_provision_state' } } },
      input: { node_uuids: ['3c1e0c36-6a3b-4d59-9d0c-2f1b7e8a9c0d'], queue_name: 'tripleo' },
      params: {},
      created_at: '2018-02-14 09:12:01',
      updated_at: '2018-02-14 09:12:44',
    },
  },
} as const;

/** March 2018 – Jan 2019 (`tripleo.messaging.v1.send`): both `execution` and `execution_id`. */
export const SEND_2018 = {
  type: 'tripleo.plan_management.v1.create_deployment_plan',
  payload: {
    status: 'FAILED',
    message: 'Plan could not be created',
    execution: { id: '1e2d3c4b-5a69-4788-97a6-b5c4d3e2f1a0', name: 'tripleo.plan_management.v1.create_deployment_plan' },
    execution_id: '1e2d3c4b-5a69-4788-97a6-b5c4d3e2f1a0',
    plan_name: 'overcloud',
    deployment_status: null,
  },
} as const;

/** 18 May – 21 Jun 2016: a top-level `execution_id` beside `payload.execution`. */
export const BAREMETAL_MAY_2016 = {
  type: 'tripleo.baremetal.v1.introspect',
  execution_id: '5f4e3d2c-1b0a-4987-a6b5-c4d3e2f1a0b9',
  payload: {
    status: 'RUNNING',
    message: 'Introspection started',
    execution: { id: '5f4e3d2c-1b0a-4987-a6b5-c4d3e2f1a0b9' },
  },
} as const;

/** Sub-workflow message: root_execution_id set. */
export const SUB_WORKFLOW_2019 = {
  type: 'tripleo.baremetal.v1._introspect',
  payload: {
    status: 'SUCCESS',
    message: null,
    execution_id: 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d',
    root_execution_id: '6f1c3b2e-8d7a-4f0e-9c1d-2a3b4c5d6e7f',
    plan_name: null,
    deployment_status: null,
    introspected_nodes: {},
  },
} as const;

/** The May 2016 mailing-list proposal (seed thread). */
export const PROPOSAL_MAY_2016 = {
  name: 'tripleo.validations.v1.run_validation',
  execution_id: '123123123',
  data: {},
} as const;

/** Every real TripleO body. */
export const REAL_WORKFLOW_BODIES: Readonly<Record<string, unknown>> = {
  '(a) deploy_plan start, 2019 format': DEPLOY_PLAN_START,
  '(b) register_or_update result with extra keys and nulls': REGISTER_OR_UPDATE_RESULT,
  '(c) ansible chunk with payload.execution.id': ANSIBLE_CHUNK,
  '(d) 2016-2018 shape with the whole execution': PROVIDE_2018,
  'March 2018 messaging.v1.send shape': SEND_2018,
  'May 2016 shape with top-level execution_id': BAREMETAL_MAY_2016,
  'sub-workflow message with root_execution_id': SUB_WORKFLOW_2019,
  'May 2016 proposal {name, execution_id, data}': PROPOSAL_MAY_2016,
};

/** The orchestrator events table, one row each. */
export const ORCHESTRATOR_TABLE: readonly unknown[] = [
  { name: 'invalidateCache', value: { type: 'processes', id: 'LIST' } },
  { name: 'invalidateCache', value: { type: 'processes', id: '0b6b6c2e-9e1f-4c1a-8d4f-3e2a1b0c9d8e' } },
  { name: 'invalidateCache', value: { type: 'subscriptions', id: 'LIST' } },
  { name: 'invalidateCache', value: { type: 'subscriptions', id: '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d' } },
  { name: 'invalidateCache', value: { type: 'processStatusCounts' } },
  { name: 'invalidateCache', value: { type: 'engineStatus' } },
];
