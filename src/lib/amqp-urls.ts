/**
 * A RabbitMQ cluster's nodes given as one setting: `amqp://a:5672,amqps://b:5671` (commas that
 * start another `amqp://`/`amqps://` URL separate nodes; a comma elsewhere, e.g. in a
 * percent-decoded password or a query, does not).
 */

/** `amqp://a:5672,amqp://b:5672` → both URLs (a cluster's nodes); one URL → itself. */
export function splitAmqpUrls(text: string): string[] {
  return text
    .split(/,(?=\s*amqps?:\/\/)/)
    .map((u) => u.trim())
    .filter((u) => u !== '');
}
