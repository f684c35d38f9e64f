"""The lab's machines: lab.yml, the node and pod images built offline, Vagrant, and the
Ansible inventory generated from the machines Vagrant made.
"""

from lab.machines.errors import MachineError
from lab.machines.labfile import Lab, LabFileError, Machine, load

__all__ = ["Lab", "LabFileError", "Machine", "MachineError", "load"]
