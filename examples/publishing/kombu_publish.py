#!/usr/bin/env python3
"""Publish one workflow message to zaqar-bridge through RabbitMQ with kombu (the library under
oslo.messaging and Mistral). Publisher confirms, persistent delivery and ``message_id`` as in
pika_publish.py; see docs/publishing.md. Same environment variables.
"""
import json
import os
import uuid

from kombu import Connection, Exchange, Producer

url = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost:5672//")
exchange_name = os.environ.get("ZAQAR_EXCHANGE", "zaqar")
project = os.environ.get("PROJECT", "admin")
queue = os.environ.get("QUEUE", "tripleo")
message_id = os.environ.get("MESSAGE_ID") or str(uuid.uuid4())
body = os.environ.get("BODY") or json.dumps(
    {"type": "tripleo.deployment.v1.deploy_plan", "payload": {"status": "RUNNING", "execution_id": str(uuid.uuid4())}}
)
routing_key = project.replace("%", "%25").replace(".", "%2E") + "." + queue

# The bridge declares the exchange; do not redeclare it (a mismatch would close the channel).
exchange = Exchange(exchange_name, type="topic", durable=True, no_declare=True)

with Connection(url, transport_options={"confirm_publish": True}) as connection:
    producer = Producer(connection.channel(), exchange=exchange)
    # With confirm_publish, publish() returns only once the broker confirmed the message.
    producer.publish(
        body.encode("utf-8"),
        routing_key=routing_key,
        content_type="application/json",
        content_encoding="utf-8",
        delivery_mode=2,
        message_id=message_id,
        mandatory=True,
        retry=True,
        retry_policy={"max_retries": 3},
    )
    print(json.dumps({"confirmed": True, "message_id": message_id, "routing_key": routing_key}))
