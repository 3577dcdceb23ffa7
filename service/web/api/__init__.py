"""API v1 blueprints (flask-smorest), registered by the app factory."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

API_PREFIX = "/api/v1"


def register_blueprints(api: Api, app: Flask) -> None:
    from service.web.api import admin, claims, contract, health, model_versions, outlets, reports

    contract.before_blueprints(api, app)
    for module in (health, outlets, claims, reports, model_versions, admin):
        api.register_blueprint(module.blp, url_prefix=API_PREFIX)
    from service.web.api import events, subscriptions

    for module in (subscriptions, events):
        api.register_blueprint(module.blp, url_prefix=API_PREFIX)
    health.register_root_aliases(app)

    from service.web.api import claimreview

    api.register_blueprint(claimreview.blp, url_prefix=API_PREFIX)
    contract.after_blueprints(api)
