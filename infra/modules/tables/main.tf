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

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = merge(var.tags, { Name = "${var.name_prefix}-rooms" })
}

resource "aws_dynamodb_table" "history" {
  name                        = "${var.name_prefix}-history"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "roomId"
  range_key                   = "messageId" # a ULID, so a range query reads in time order
  deletion_protection_enabled = var.deletion_protection_enabled

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

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = merge(var.tags, { Name = "${var.name_prefix}-history" })
}
