"""CloudWatch alarms for the game, their SNS topic, and which of them guard deployments.

The alarms read per-target or per-task metrics and treat missing data as "not breaching", so a
service scaled to zero by the office-hours schedule (no targets, no tasks, no data) is quiet. The
one exception, tasks-below-minimum, exists only in stacks without a schedule.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

PERIOD_SECONDS = 60
ERROR_RATE_PERCENT = 5.0
CPU_HIGH_PERCENT = 85.0


def create_topic(parent: pulumi.Resource, name: str, email: str | None) -> aws.sns.Topic:
    child = pulumi.ResourceOptions(parent=parent)
    # Not encrypted with the AWS-managed SNS key: CloudWatch cannot publish to a topic encrypted
    # with it, and a customer-managed key costs $1/month for alarm texts with no secrets in them.
    topic = aws.sns.Topic(f"{name}-alarms", opts=child)
    if email:
        aws.sns.TopicSubscription(
            f"{name}-alarms-email", topic=topic.arn, protocol="email", endpoint=email, opts=child
        )
    return topic


def _alarm(
    parent: pulumi.Resource,
    name: str,
    topic: aws.sns.Topic,
    description: str,
    **kwargs: Any,
) -> aws.cloudwatch.MetricAlarm:
    return aws.cloudwatch.MetricAlarm(
        name,
        alarm_description=description,
        alarm_actions=[topic.arn],
        ok_actions=[topic.arn],
        treat_missing_data=kwargs.pop("treat_missing_data", "notBreaching"),
        **kwargs,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def deployment_alarms(
    parent: pulumi.Resource,
    name: str,
    topic: aws.sns.Topic,
    alb: aws.lb.LoadBalancer,
    target_group: aws.lb.TargetGroup,
) -> list[aws.cloudwatch.MetricAlarm]:
    """What players see; only the load balancer is needed, so the service can name these."""
    error_rate = _alarm(
        parent,
        f"{name}-5xx-rate",
        topic,
        f"More than {ERROR_RATE_PERCENT:g}% of game requests answered 5xx by the tasks",
        comparison_operator="GreaterThanThreshold",
        threshold=ERROR_RATE_PERCENT,
        evaluation_periods=3,
        datapoints_to_alarm=3,
        metric_queries=[
            _lb_metric("errors", "HTTPCode_Target_5XX_Count", alb),
            _lb_metric("requests", "RequestCount", alb),
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id="rate",
                # FILL: no data means no errors, and no requests must not divide by zero.
                expression="100 * FILL(errors, 0) / FILL(requests, 1)",
                label="Target 5xx rate (%)",
                return_data=True,
            ),
        ],
    )
    unhealthy = _alarm(
        parent,
        f"{name}-unhealthy-targets",
        topic,
        "Game tasks failing the load balancer health check",
        namespace="AWS/ApplicationELB",
        metric_name="UnHealthyHostCount",
        dimensions={"LoadBalancer": alb.arn_suffix, "TargetGroup": target_group.arn_suffix},
        statistic="Maximum",
        period=PERIOD_SECONDS,
        comparison_operator="GreaterThanThreshold",
        threshold=0,
        evaluation_periods=3,
        datapoints_to_alarm=3,
    )
    return [error_rate, unhealthy]


def _lb_metric(
    id_: str, metric: str, alb: aws.lb.LoadBalancer
) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=id_,
        return_data=False,
        metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace="AWS/ApplicationELB",
            metric_name=metric,
            dimensions={"LoadBalancer": alb.arn_suffix},
            period=PERIOD_SECONDS,
            stat="Sum",
        ),
    )


def service_alarms(
    parent: pulumi.Resource,
    name: str,
    topic: aws.sns.Topic,
    *,
    cluster_name: pulumi.Input[str],
    service_name: pulumi.Input[str],
    target_group: aws.lb.TargetGroup,
    alb: aws.lb.LoadBalancer,
    min_count: int,
    container_insights: bool,
    scheduled: bool,
) -> list[aws.cloudwatch.MetricAlarm]:
    """Alarms on the service itself (they need its name, so they come after it)."""
    service_dims = {"ClusterName": cluster_name, "ServiceName": service_name}
    alarms = [
        _alarm(
            parent,
            f"{name}-cpu-high",
            topic,
            f"Game tasks above {CPU_HIGH_PERCENT:g}% CPU for 5 minutes (autoscaling at its limit?)",
            namespace="AWS/ECS",
            metric_name="CPUUtilization",
            dimensions=service_dims,
            statistic="Average",
            period=PERIOD_SECONDS,
            comparison_operator="GreaterThanThreshold",
            threshold=CPU_HIGH_PERCENT,
            evaluation_periods=5,
            datapoints_to_alarm=5,
        )
    ]
    if container_insights:
        # Running below what the service wants (crash loop, image pull refused, no Spot
        # capacity). Desired is 0 when the schedule scales the service in, so that stays quiet.
        alarms.append(
            _alarm(
                parent,
                f"{name}-tasks-below-desired",
                topic,
                "Fewer game tasks running than desired for 5 minutes",
                comparison_operator="GreaterThanThreshold",
                threshold=0,
                evaluation_periods=5,
                datapoints_to_alarm=5,
                metric_queries=[
                    _insights_metric("running", "RunningTaskCount", service_dims),
                    _insights_metric("desired", "DesiredTaskCount", service_dims),
                    aws.cloudwatch.MetricAlarmMetricQueryArgs(
                        id="missing",
                        expression="desired - running",
                        label="Tasks missing",
                        return_data=True,
                    ),
                ],
            )
        )
    elif not scheduled and min_count > 0:
        # Without Container Insights there is no "desired" metric; healthy targets below the
        # minimum is the next best signal, and only meaningful when the minimum never drops.
        alarms.append(
            _alarm(
                parent,
                f"{name}-tasks-below-minimum",
                topic,
                f"Fewer than {min_count} healthy game tasks for 5 minutes",
                namespace="AWS/ApplicationELB",
                metric_name="HealthyHostCount",
                dimensions={"LoadBalancer": alb.arn_suffix, "TargetGroup": target_group.arn_suffix},
                statistic="Minimum",
                period=PERIOD_SECONDS,
                comparison_operator="LessThanThreshold",
                threshold=min_count,
                evaluation_periods=5,
                datapoints_to_alarm=5,
                treat_missing_data="breaching",
            )
        )
    return alarms


def _insights_metric(
    id_: str, metric: str, dims: dict[str, pulumi.Input[str]]
) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=id_,
        return_data=False,
        metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace="ECS/ContainerInsights",
            metric_name=metric,
            dimensions=dims,
            period=PERIOD_SECONDS,
            stat="Average",
        ),
    )
