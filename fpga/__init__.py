"""FPGA flow of the RAE: board builds, the UART board top and its host tools.

- ``protocol``: frame format and the host codec (plain Python).
- ``uart``, ``link``, ``top``: the board top (8N1 UART, frame parser/sender, RAE).
- ``boards``: supported boards, their default engines and toolchain settings.
- ``build``, ``fmax``, ``report``: place-and-route flows and their reports.
- ``host``: workload, golden check and the serial-port session.
- ``cli``: ``apsq-rae fpga build``, ``fmax``, ``host``.
"""
