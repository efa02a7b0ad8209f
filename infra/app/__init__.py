"""How an app declares itself to the library: `from infra.app import App, Table, Function, ...`.

An app's `app.py` assigns `app = App(...)`; the library builds every stack, zip, pipeline
role and local run from it. See README.md, "Your own app".
"""

from infra.app.app import App
from infra.app.functions import Function
from infra.app.grants import Grant, Unscoped
from infra.app.references import HTTP_API_URL, SharedValue
from infra.app.resources import (
    BrowserUpload,
    Bucket,
    Index,
    Key,
    Notification,
    Queue,
    Table,
    Topic,
    UserPool,
)
from infra.app.settings import Setting
from infra.app.site import Site
from infra.app.triggers import (
    HttpRoutes,
    QueueMessages,
    QueueSubscription,
    Schedule,
    TableStream,
    TopicSubscription,
)

__all__ = [
    "HTTP_API_URL",
    "App",
    "BrowserUpload",
    "Bucket",
    "Function",
    "Grant",
    "HttpRoutes",
    "Index",
    "Key",
    "Notification",
    "Queue",
    "QueueMessages",
    "QueueSubscription",
    "Schedule",
    "Setting",
    "SharedValue",
    "Site",
    "Table",
    "TableStream",
    "Topic",
    "TopicSubscription",
    "Unscoped",
    "UserPool",
]
