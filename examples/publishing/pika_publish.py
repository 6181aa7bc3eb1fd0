#!/usr/bin/env python3
"""Publish one workflow message to zaqar-bridge straight through RabbitMQ, with pika.

The bridge consumes everything published to its topic exchange (default ``zaqar``) and stores
it in the Zaqar queue the routing key names: ``<project>.<queue>``. This example waits for the
broker's publisher confirm (the message is then safe) and sets ``message_id`` so that a
redelivery is stored once. See docs/publishing.md.

Environment: AMQP_URL (default amqp://guest:guest@localhost:5672/%2F), ZAQAR_EXCHANGE (zaqar),
PROJECT (admin), QUEUE (tripleo), MESSAGE_ID (a new uuid), BODY (JSON text of the message).
"""
import json
import os
import uuid

import pika

url = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost:5672/%2F")
exchange = os.environ.get("ZAQAR_EXCHANGE", "zaqar")
project = os.environ.get("PROJECT", "admin")
queue = os.environ.get("QUEUE", "tripleo")
message_id = os.environ.get("MESSAGE_ID") or str(uuid.uuid4())
body = os.environ.get("BODY") or json.dumps(
    {"type": "tripleo.deployment.v1.deploy_plan", "payload": {"status": "RUNNING", "execution_id": str(uuid.uuid4())}}
)

# In the project part of the routing key, '%' is written %25 and '.' is written %2E.
routing_key = project.replace("%", "%25").replace(".", "%2E") + "." + queue

connection = pika.BlockingConnection(pika.URLParameters(url))
try:
    channel = connection.channel()
    channel.confirm_delivery()  # basic_publish now raises unless the broker confirms
    channel.basic_publish(
        exchange=exchange,
        routing_key=routing_key,
        body=body.encode("utf-8"),
        properties=pika.BasicProperties(
            content_type="application/json",
            delivery_mode=2,  # persistent
            message_id=message_id,
        ),
        mandatory=True,  # unroutable (the bridge never declared the exchange's binding) raises
    )
    print(json.dumps({"confirmed": True, "message_id": message_id, "routing_key": routing_key}))
finally:
    connection.close()
