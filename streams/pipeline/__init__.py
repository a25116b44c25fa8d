"""Pure pipeline logic, free of Faust: decoding, de-duplication, alert building, routing.

Each function here takes plain values and returns plain values or schema events, so it is
tested with plain asserts and property tests; ``streams.worker.agents`` wires it to Kafka.
"""
