"""moto's server, mended where it departs from what AWS documents and the deployment
guide's commands meet: `python -m tests.support.moto_as_aws -p PORT`.

- CloudFormation change sets: moto 5.2 applies a change set's resources but leaves the
  stack's outputs and parameters as they were (`describe-stacks` answers the old ones, or
  none after a CREATE change set). `aws cloudformation deploy` works only through change
  sets. Here the stack takes the change set's parameters and outputs, as on AWS.
- CloudFormation parameters: moto answers a CommaDelimitedList parameter's previous value
  as a list, which a change set's `UsePreviousValue` (every parameter `deploy` does not
  override) then fails to read. AWS answers the value as given, comma-separated.
- CloudFormation updates: moto drops a resource it cannot update (RDS DBInstance has no
  update in moto) from the stack, and the next `Fn::GetAtt` on it fails the update. AWS
  updates it in place; here the resource is kept as it is.
- ECS RunTask: moto sums each container's memory and fails on a Fargate task whose memory
  is set for the task only, which AWS allows (and the stack does). Here a container
  without memory counts the task's.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.models import CloudFormationBackend, Stack
from moto.ecs.models import EC2ContainerServiceBackend, TaskDefinition
from moto.server import main

_execute = CloudFormationBackend.execute_change_set
_update = parsing.parse_and_update_resource
_requirements = EC2ContainerServiceBackend._calculate_task_resource_requirements


def _change_set(backend: CloudFormationBackend, name: str) -> Any:
    if name in backend.change_sets:  # an ARN
        return backend.change_sets[name]
    return next(c for c in backend.change_sets.values() if c.change_set_name == name)


def execute_change_set(
    self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None
) -> None:
    """moto's execution, then the stack takes the change set's parameters and outputs."""
    _execute(self, change_set_name, stack_name)
    change_set = _change_set(self, change_set_name)
    stack = self.stacks[change_set.stack_id]
    stack.parameters = change_set.parameters
    stack._parse_template()
    stack.output_map = stack._create_output_map()


def parse_and_update_resource(
    logical_id: str, resource_json: dict[str, Any], resources_map: Any, **where: str
) -> Any:
    """moto's update, or the resource as it is where moto has no update for its type."""
    updated = _update(logical_id, resource_json, resources_map, **where)
    return resources_map[logical_id] if updated is None else updated


def stack_parameters(self: Stack) -> dict[str, Any]:
    """The stack's parameters as given: lists comma-separated."""
    resolved = self.resource_map.resolved_parameters
    return {k: ",".join(v) if isinstance(v, list) else v for k, v in resolved.items()}


def task_resource_requirements(task_definition: TaskDefinition) -> dict[str, Any]:
    """moto's sum, with the task's memory for containers that set none (Fargate)."""
    task_memory = int(task_definition.memory or 0)
    for container in task_definition.container_definitions:
        if not any(container.get(k) for k in ("Memory", "MemoryReservation", "memory")):
            container.setdefault("memory", task_memory)
    return _requirements(task_definition)


if __name__ == "__main__":
    CloudFormationBackend.execute_change_set = execute_change_set  # type: ignore[method-assign]
    parsing.parse_and_update_resource = parse_and_update_resource
    Stack.stack_parameters = property(stack_parameters)  # type: ignore[assignment,method-assign]
    EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(  # type: ignore[method-assign]
        task_resource_requirements
    )
    main()
