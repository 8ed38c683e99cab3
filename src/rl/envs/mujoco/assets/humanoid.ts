// Humanoid (Gymnasium Humanoid-v5's model), written for fimkit from the documented facts: a
// 3D humanoid on a free joint 1.4 m up, with a torso, head, upper waist, lower waist (abdomen
// hinges about z and y), pelvis (abdomen hinge about x), two legs (hip hinges about x, z, y with
// per-axis armature, damping 5 and stiffness; a knee; a foot sphere) and two arms (two shoulder
// hinges on skew axes, an elbow, a hand sphere); capsules and spheres at density 1000 with a
// 1 mm contact margin and condim 1 (the floor condim 3); seventeen motors with gears 100–300 on
// the legs and trunk and 25 on the arms, controls in [−0.4, 0.4]; two passive fixed tendons
// (hip y − knee) as in the published model; PGS solver with 50 iterations; RK4 at 3 ms. Body
// frames, joint placement and order follow the published model: the observation carries
// per-body com-based inertias, velocities and contact forces in body order.
export const HUMANOID_XML = `
<mujoco model="fimkit-humanoid">
  <compiler angle="degree" inertiafromgeom="true"/>
  <option timestep="0.003" integrator="RK4" solver="PGS" iterations="50"/>
  <default>
    <joint limited="true" armature="1" damping="1"/>
    <geom contype="1" conaffinity="1" condim="1" margin="0.001"/>
    <motor ctrllimited="true" ctrlrange="-0.4 0.4"/>
    <default class="abdomen">
      <joint armature="0.02" damping="5"/>
    </default>
    <default class="hip">
      <joint armature="0.01" damping="5" stiffness="10"/>
    </default>
  </default>
  <worldbody>
    <geom name="floor" type="plane" size="20 20 0.125" condim="3" friction="1 0.1 0.1"/>
    <body name="torso" pos="0 0 1.4">
      <joint name="root" type="free" limited="false" armature="0" damping="0" stiffness="0"/>
      <geom name="torso1" type="capsule" fromto="0 -0.07 0 0 0.07 0" size="0.07"/>
      <geom name="head" type="sphere" pos="0 0 0.19" size="0.09"/>
      <geom name="uwaist" type="capsule" fromto="-0.01 -0.06 -0.12 -0.01 0.06 -0.12" size="0.06"/>
      <body name="lwaist" pos="-0.01 0 -0.26" quat="1 0 -0.002 0">
        <geom name="lwaist" type="capsule" fromto="0 -0.06 0 0 0.06 0" size="0.06"/>
        <joint name="abdomen_z" class="abdomen" type="hinge" pos="0 0 0.065" axis="0 0 1" range="-45 45" stiffness="20"/>
        <joint name="abdomen_y" class="abdomen" type="hinge" pos="0 0 0.065" axis="0 1 0" range="-75 30" stiffness="10"/>
        <body name="pelvis" pos="0 0 -0.165" quat="1 0 -0.002 0">
          <joint name="abdomen_x" class="abdomen" type="hinge" pos="0 0 0.1" axis="1 0 0" range="-35 35" stiffness="10"/>
          <geom name="butt" type="capsule" fromto="-0.02 -0.07 0 -0.02 0.07 0" size="0.09"/>
          <body name="right_thigh" pos="0 -0.1 -0.04">
            <joint name="right_hip_x" class="hip" type="hinge" axis="1 0 0" range="-25 5"/>
            <joint name="right_hip_z" class="hip" type="hinge" axis="0 0 1" range="-60 35"/>
            <joint name="right_hip_y" class="hip" type="hinge" axis="0 1 0" range="-110 20" armature="0.008" stiffness="20"/>
            <geom name="right_thigh1" type="capsule" fromto="0 0 0 0 0.01 -0.34" size="0.06"/>
            <body name="right_shin" pos="0 0.01 -0.403">
              <joint name="right_knee" type="hinge" pos="0 0 0.02" axis="0 -1 0" range="-160 -2" armature="0.006"/>
              <geom name="right_shin1" type="capsule" fromto="0 0 0 0 0 -0.3" size="0.049"/>
              <body name="right_foot" pos="0 0 -0.45">
                <geom name="right_foot" type="sphere" pos="0 0 0.1" size="0.075"/>
              </body>
            </body>
          </body>
          <body name="left_thigh" pos="0 0.1 -0.04">
            <joint name="left_hip_x" class="hip" type="hinge" axis="-1 0 0" range="-25 5"/>
            <joint name="left_hip_z" class="hip" type="hinge" axis="0 0 -1" range="-60 35"/>
            <joint name="left_hip_y" class="hip" type="hinge" axis="0 1 0" range="-110 20" stiffness="20"/>
            <geom name="left_thigh1" type="capsule" fromto="0 0 0 0 -0.01 -0.34" size="0.06"/>
            <body name="left_shin" pos="0 -0.01 -0.403">
              <joint name="left_knee" type="hinge" pos="0 0 0.02" axis="0 -1 0" range="-160 -2" armature="0.006" stiffness="1"/>
              <geom name="left_shin1" type="capsule" fromto="0 0 0 0 0 -0.3" size="0.049"/>
              <body name="left_foot" pos="0 0 -0.45">
                <geom name="left_foot" type="sphere" pos="0 0 0.1" size="0.075"/>
              </body>
            </body>
          </body>
        </body>
      </body>
      <body name="right_upper_arm" pos="0 -0.17 0.06">
        <joint name="right_shoulder1" type="hinge" axis="2 1 1" range="-85 60" armature="0.0068" stiffness="1"/>
        <joint name="right_shoulder2" type="hinge" axis="0 -1 1" range="-85 60" armature="0.0051" stiffness="1"/>
        <geom name="right_uarm1" type="capsule" fromto="0 0 0 0.16 -0.16 -0.16" size="0.04"/>
        <body name="right_lower_arm" pos="0.18 -0.18 -0.18">
          <joint name="right_elbow" type="hinge" axis="0 -1 1" range="-90 50" armature="0.0028" stiffness="0"/>
          <geom name="right_larm" type="capsule" fromto="0.01 0.01 0.01 0.17 0.17 0.17" size="0.031"/>
          <geom name="right_hand" type="sphere" pos="0.18 0.18 0.18" size="0.04"/>
        </body>
      </body>
      <body name="left_upper_arm" pos="0 0.17 0.06">
        <joint name="left_shoulder1" type="hinge" axis="2 -1 1" range="-60 85" armature="0.0068" stiffness="1"/>
        <joint name="left_shoulder2" type="hinge" axis="0 1 1" range="-60 85" armature="0.0051" stiffness="1"/>
        <geom name="left_uarm1" type="capsule" fromto="0 0 0 0.16 0.16 -0.16" size="0.04"/>
        <body name="left_lower_arm" pos="0.18 0.18 -0.18">
          <joint name="left_elbow" type="hinge" axis="0 -1 -1" range="-90 50" armature="0.0028" stiffness="0"/>
          <geom name="left_larm" type="capsule" fromto="0.01 -0.01 0.01 0.17 -0.17 0.17" size="0.031"/>
          <geom name="left_hand" type="sphere" pos="0.18 -0.18 0.18" size="0.04"/>
        </body>
      </body>
    </body>
  </worldbody>
  <tendon>
    <fixed name="left_hipknee">
      <joint joint="left_hip_y" coef="-1"/>
      <joint joint="left_knee" coef="1"/>
    </fixed>
    <fixed name="right_hipknee">
      <joint joint="right_hip_y" coef="-1"/>
      <joint joint="right_knee" coef="1"/>
    </fixed>
  </tendon>
  <actuator>
    <motor name="abdomen_y" joint="abdomen_y" gear="100"/>
    <motor name="abdomen_z" joint="abdomen_z" gear="100"/>
    <motor name="abdomen_x" joint="abdomen_x" gear="100"/>
    <motor name="right_hip_x" joint="right_hip_x" gear="100"/>
    <motor name="right_hip_z" joint="right_hip_z" gear="100"/>
    <motor name="right_hip_y" joint="right_hip_y" gear="300"/>
    <motor name="right_knee" joint="right_knee" gear="200"/>
    <motor name="left_hip_x" joint="left_hip_x" gear="100"/>
    <motor name="left_hip_z" joint="left_hip_z" gear="100"/>
    <motor name="left_hip_y" joint="left_hip_y" gear="300"/>
    <motor name="left_knee" joint="left_knee" gear="200"/>
    <motor name="right_shoulder1" joint="right_shoulder1" gear="25"/>
    <motor name="right_shoulder2" joint="right_shoulder2" gear="25"/>
    <motor name="right_elbow" joint="right_elbow" gear="25"/>
    <motor name="left_shoulder1" joint="left_shoulder1" gear="25"/>
    <motor name="left_shoulder2" joint="left_shoulder2" gear="25"/>
    <motor name="left_elbow" joint="left_elbow" gear="25"/>
  </actuator>
</mujoco>
`;
