"""ZEBRA charge-domain compute-in-memory netlist generator and SPICE harness.

Data flows one way: encoding/technology/design parameters -> netlist -> testbench ->
simulation (runner) -> raw vectors -> metrics -> report/plots.
"""

__version__ = "0.1.0"
