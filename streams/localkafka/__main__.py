"""``python -m streams.localkafka COMMAND``: the ``flashpoint kafka`` commands without Faust's CLI."""

from streams.cli.kafka import kafka_group

if __name__ == "__main__":
    kafka_group(prog_name="python -m streams.localkafka")
