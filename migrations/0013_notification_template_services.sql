-- Which GOV.UK Notify services a template belongs to (issue 18): `/v2`
-- lists, reads, previews and sends only the caller's service's templates;
-- a template linked to no service is seen by no `/v2` caller (the CRM's own
-- `/api/templates` routes see every template). Links name a template, not
-- one of its versions, and are set with `PUT /api/templates/{id}/services`.
CREATE TABLE notification_template_services (
    template_id TEXT NOT NULL,
    service_id  TEXT NOT NULL REFERENCES notify_services (id),
    PRIMARY KEY (template_id, service_id)
);

CREATE INDEX notification_template_services_by_service
    ON notification_template_services (service_id, template_id);

-- Before this, every service used every template: what worked keeps working.
INSERT INTO notification_template_services (template_id, service_id)
    SELECT DISTINCT t.id, s.id
    FROM notification_templates t CROSS JOIN notify_services s
    WHERE t.type <> 'portal';
