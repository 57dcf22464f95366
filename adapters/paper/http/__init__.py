"""The simulated GMO Coin over HTTP: a PaperVenue speaking GMO's REST wire format (signatures,
rate limits, maintenance, faults on demand), for end-to-end tests of the real GMO adapter."""

from adapters.paper.http.faults import SimFault
from adapters.paper.http.server import serve_sim_gmo
from adapters.paper.http.settings import SimSettings
from adapters.paper.http.sim import SimGmo

__all__ = ["SimFault", "SimGmo", "SimSettings", "serve_sim_gmo"]
