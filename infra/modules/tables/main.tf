# Key names and the index are part of the contract in docs/design.md; the Lambda code and the
# unit-test fixtures build the same schema, so change them together.

resource "aws_dynamodb_table" "rooms" {
  name                        = "${var.name_prefix}-rooms"
  billing_mode                = "PAY_PER_REQUEST" # chat traffic is bursty; no capacity to plan
  hash_key                    = "roomId"
  range_key                   = "connectionId"
  deletion_protection_enabled = var.deletion_protection_enabled

  attribute {
    name = "roomId"
    type = "S"
  }

  attribute {
    name = "connectionId"
    type = "S"
  }

  # leave/$disconnect and the 410-Gone pruning find a connection's rooms without a scan.
  global_secondary_index {
    name            = var.rooms_by_connection_index_name
    hash_key        = "connectionId"
    range_key       = "roomId"
    projection_type = "ALL"
  }

  # A missed $disconnect must not leave ghost members for ever: items carry expiresAt
  # (connection start + 2 h API Gateway maximum + 5 min).
  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  # Memberships live at most 2 h 5 min (expiresAt), so a restore to an earlier second would
  # bring back connections that are already gone: continuous backups would cost
  # (https://aws.amazon.com/dynamodb/pricing/on-demand/, "Continuous backups (PITR)") and
  # protect nothing worth having.
  point_in_time_recovery {
    enabled = var.rooms_point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = merge(var.tags, { Name = "${var.name_prefix}-rooms" })
}

resource "aws_dynamodb_table" "history" {
  name         = "${var.name_prefix}-history"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "roomId"
  range_key    = "messageId" # a ULID, so a range query reads in time order
  # Every message ever sent: on by default, so neither a stray `terraform destroy` nor a console
  # click can delete it (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithTables.Basics.html#WorkingWithTables.Basics.DeletionProtection).
  deletion_protection_enabled = var.history_deletion_protection

  attribute {
    name = "roomId"
    type = "S"
  }

  attribute {
    name = "messageId"
    type = "S"
  }

  # Always on: idempotency marks always expire, messages only when HISTORY_RETENTION_DAYS > 0
  # makes the code write expiresAt.
  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  # Restores to any second of the last 35 days after a bad write or delete.
  point_in_time_recovery {
    enabled = var.history_point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = merge(var.tags, { Name = "${var.name_prefix}-history" })
}
