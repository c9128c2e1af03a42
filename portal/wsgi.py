"""For gunicorn: `gunicorn -w 4 'portal.wsgi:app'`."""

from portal import create_app

app = create_app()
