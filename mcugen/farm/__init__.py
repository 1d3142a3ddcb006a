"""A board farm on labgrid: places (acquire, resources, release), their descriptions from boards.yaml."""
