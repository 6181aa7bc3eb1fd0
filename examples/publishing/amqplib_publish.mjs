// Publish one workflow message to zaqar-bridge through RabbitMQ with Node's amqplib: a confirm
// channel (the promise resolves once the broker confirmed), persistent delivery, message_id for
// idempotence. See docs/publishing.md. Same environment variables as pika_publish.py.
import { randomUUID } from 'node:crypto';
import { connect } from 'amqplib';

const url = process.env.AMQP_URL ?? 'amqp://guest:guest@localhost:5672';
const exchange = process.env.ZAQAR_EXCHANGE ?? 'zaqar';
const project = process.env.PROJECT ?? 'admin';
const queue = process.env.QUEUE ?? 'tripleo';
const messageId = process.env.MESSAGE_ID || randomUUID();
const body = process.env.BODY || JSON.stringify({ type: 'tripleo.deployment.v1.deploy_plan', payload: { status: 'RUNNING', execution_id: randomUUID() } });
// In the project part of the routing key, '%' is written %25 and '.' is written %2E.
const routingKey = `${project.replaceAll('%', '%25').replaceAll('.', '%2E')}.${queue}`;

const connection = await connect(url);
try {
  const channel = await connection.createConfirmChannel();
  await new Promise((resolve, reject) => {
    channel.publish(exchange, routingKey, Buffer.from(body), { persistent: true, contentType: 'application/json', messageId, mandatory: true }, (err) =>
      err ? reject(err) : resolve(),
    );
  });
  console.log(JSON.stringify({ confirmed: true, message_id: messageId, routing_key: routingKey }));
} finally {
  await connection.close();
}
