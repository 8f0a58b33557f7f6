"""The only code that knows DeskDirector's wire format: endpoints, client, models, errors."""
