"""One APIRouter per resource; `api.main.create_app` includes them all."""
