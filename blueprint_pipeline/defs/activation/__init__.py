"""Layer `activation`: LinkedIn, Marketo and CRM outputs checked against governance policies."""
