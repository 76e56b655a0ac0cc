"""Source of the Lambda function behind ``HybridActivation``'s custom resource (inline, no bundling).

Kept as text so the construct can inline it (``lambda.Code.from_inline``: no asset, no Docker, and
it works in StackSet templates, which cannot carry assets). Tests execute the same text against
fake clients. It must stay under the 4 KB CloudFormation limit for inline code.

What it guarantees:

- The activation code goes only into the secret (``PutSecretValue``). The response to
  CloudFormation, which CloudFormation stores, carries the activation id alone; nothing logs the code.
- Create is idempotent per request: a retried invocation of the same request finds its own
  activation in the secret (by ``RequestId``) and reuses it instead of creating a second one.
- Update creates a new activation (an activation cannot be changed) and returns its id as the
  new physical id; CloudFormation then deletes the old one.
- Delete removes the activation and succeeds if it is gone already; nodes registered with it stay.
- If the code cannot be stored, the new activation is deleted again, so no usable code is lost.
"""

SOURCE = r"""
import datetime, json, re, urllib.request
import boto3

ssm = boto3.client("ssm")
secrets = boto3.client("secretsmanager")
ACTIVATION_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def stored(secret_id):
    try:
        return json.loads(secrets.get_secret_value(SecretId=secret_id)["SecretString"])
    except Exception:
        return {}


def delete(activation_id):
    if not ACTIVATION_ID.match(activation_id or ""):
        return
    try:
        ssm.delete_activation(ActivationId=activation_id)
    except (ssm.exceptions.InvalidActivation, ssm.exceptions.InvalidActivationId):
        pass


def create(event, props):
    previous = stored(props["SecretId"])
    if previous.get("RequestId") == event["RequestId"] and previous.get("ActivationId"):
        return previous["ActivationId"]
    days = int(props["ExpirationDays"])
    expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days, minutes=-5)
    request = {
        "IamRole": props["IamRole"],
        "RegistrationLimit": int(props["RegistrationLimit"]),
        "ExpirationDate": expires,
        "Description": props.get("Description", ""),
        "DefaultInstanceName": props.get("DefaultInstanceName", ""),
    }
    tags = [{"Key": k, "Value": v} for k, v in sorted(props.get("Tags", {}).items())]
    if tags:
        request["Tags"] = tags
    result = ssm.create_activation(**request)
    value = {
        "ActivationId": result["ActivationId"],
        "ActivationCode": result["ActivationCode"],
        "Region": props["Region"],
        "ExpirationDate": expires.isoformat(),
        "RequestId": event["RequestId"],
    }
    try:
        secrets.put_secret_value(SecretId=props["SecretId"], SecretString=json.dumps(value))
    except Exception:
        delete(result["ActivationId"])
        raise
    return result["ActivationId"]


def handler(event, context):
    kind, props = event["RequestType"], event["ResourceProperties"]
    physical = event.get("PhysicalResourceId")
    body = {"Status": "SUCCESS", "Reason": "", "Data": {}}
    try:
        if kind == "Delete":
            delete(physical)
        else:
            physical = create(event, props)
            body["Data"] = {"ActivationId": physical}
    except Exception as error:
        body["Status"], body["Reason"] = "FAILED", f"{type(error).__name__}: {str(error)[:300]}"
    physical = physical or "failed-" + event["RequestId"]
    print(json.dumps({"RequestType": kind, "PhysicalResourceId": physical, "Status": body["Status"]}))
    body.update(
        PhysicalResourceId=physical,
        StackId=event["StackId"],
        RequestId=event["RequestId"],
        LogicalResourceId=event["LogicalResourceId"],
        NoEcho=True,
    )
    data = json.dumps(body).encode()
    put = urllib.request.Request(event["ResponseURL"], data=data, method="PUT", headers={"Content-Type": ""})
    urllib.request.urlopen(put, timeout=30).close()
"""
