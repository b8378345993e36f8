"""The Web manager's navigation menu. Later pages append to `NAV` (or a group's children);
labels are English msgids translated by the catalogs."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class NavItem:
    label: str
    url: str | None = None
    key: str = ""
    children: list[NavItem] = field(default_factory=list)

    def is_active(self, active: str) -> bool:
        return self.key == active or any(child.is_active(active) for child in self.children)


NAV: list[NavItem] = [
    NavItem("Dashboard", "/dashboard", key="dashboard"),
    NavItem(
        "Clients",
        key="clients-group",
        children=[
            NavItem("Client list", "/clients", key="clients"),
            NavItem("Web install", "/clients/install/web", key="install-web"),
            NavItem("Remote install", "/clients/install/remote", key="install-remote"),
        ],
    ),
    NavItem(
        "Updates",
        key="updates",
        children=[NavItem("Components", "/updates/components", key="components")],
    ),
    NavItem(
        "Outbreak",
        key="outbreak",
        children=[
            NavItem("Outbreak prevention", "/outbreak/prevention", key="outbreak-prevention"),
            NavItem("Outbreak monitor", "/admin/outbreak-monitor", key="outbreak-monitor"),
            NavItem("Outbreak alerts", "/logs/outbreak-alerts", key="outbreak-alerts"),
        ],
    ),
    NavItem(
        "Administration",
        key="admin",
        children=[
            NavItem("Product License", "/admin/licenses", key="licenses"),
            NavItem("Log management", "/admin/log-management", key="log-management"),
            NavItem("Mail notifications", "/admin/mail", key="mail"),
        ],
    ),
    NavItem(
        "Logs",
        key="logs",
        children=[
            NavItem("System events", "/logs/system-events", key="system-events"),
            NavItem("Update log (server)", "/logs/updates/server", key="update-log-server"),
            NavItem("Update log (client)", "/logs/updates/client", key="update-log-client"),
            NavItem("Virus log", "/logs/virus", key="virus-log"),
            NavItem("Connection status log", "/logs/connection", key="connection-log"),
        ],
    ),
]


def nav_group(key: str) -> NavItem:
    """The top-level group `key`, for a later page to add itself under."""
    return next(item for item in NAV if item.key == key)
