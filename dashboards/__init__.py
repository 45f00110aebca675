"""dxpulse.dashboards: Grafana provisioning (datasource, dashboards, alert rules) as code.

Installed as ``dxpulse.dashboards``; ``provisioning/`` is mounted by docker-compose.
"""

from pathlib import Path

#: Folder mounted at /etc/grafana/provisioning by docker-compose.
PROVISIONING_DIR = Path(__file__).resolve().parent / "provisioning"

__all__ = ["PROVISIONING_DIR"]
